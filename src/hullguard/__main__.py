from hullguard.cli.main import run

run()
