"""hullguard.secrets"""
