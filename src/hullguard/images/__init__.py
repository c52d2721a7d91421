"""hullguard.images"""
