"""hullguard.sbom"""
