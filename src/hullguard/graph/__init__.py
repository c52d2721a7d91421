"""hullguard.graph"""
