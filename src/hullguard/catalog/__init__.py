"""hullguard.catalog"""
