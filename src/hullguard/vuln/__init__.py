"""hullguard.vuln"""
