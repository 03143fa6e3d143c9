from .hooks import uninstall_hook
from . import controllers
from . import models
from . import wizards
