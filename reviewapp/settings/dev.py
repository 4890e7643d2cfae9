from .base import *  # noqa: F403 -- settings modules extend the base namespace
from .base import env_bool

DEBUG = env_bool("DEBUG", True)
DEMO_LOGINS = env_bool("DEMO_LOGINS", True)
