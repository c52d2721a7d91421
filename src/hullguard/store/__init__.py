"""hullguard.store"""
