"""hullguard.lint"""
