"""aggregator: a feed aggregator and republisher. The package itself owns the version and
the User-Agent; the stages are its subpackages and modules. Must NOT import any of them:
every process (the CLI, each parse worker) imports this first.
"""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/aggregator-project/aggregator"
USER_AGENT = f"aggregator/{__version__} (+{PROJECT_URL})"
