"""hullguard.demo"""
