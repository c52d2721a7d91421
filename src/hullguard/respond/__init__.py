"""hullguard.respond"""
