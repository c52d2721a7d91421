"""hullguard.inventory"""
