"""hullguard.triage"""
