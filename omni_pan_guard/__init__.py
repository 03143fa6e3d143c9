from .hooks import uninstall_hook
from . import models
