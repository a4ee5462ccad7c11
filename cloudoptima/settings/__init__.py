"""One settings tree for every deployable; the only package that reads the environment.

Two modes:

* ``embedded`` (default): the laptop / demo / test mode. Secrets that are not given are generated once and
  stored in ``<state_dir>/secrets.json`` (mode 600); service URLs that are not given are read from
  ``<state_dir>/runtime.json``, written by ``cloudoptima up``.
* ``production``: nothing is generated. A missing or default JWT secret or encryption key, or a missing
  service URL, is refused at start with a message naming the variable.

Parts: ``model`` (the :class:`Settings` fields and validation), ``runtime_state``, ``stored_secrets``,
``key_rings`` and ``errors``. Import from here: ``from cloudoptima.settings import Settings, load_settings``.
"""

from cloudoptima.settings.errors import SettingsError
from cloudoptima.settings.key_rings import JwtPreviousKey
from cloudoptima.settings.model import Settings, load_settings
from cloudoptima.settings.stored_secrets import MIN_JWT_SECRET_LENGTH, UNSAFE_SECRETS

__all__ = [
    "MIN_JWT_SECRET_LENGTH",
    "UNSAFE_SECRETS",
    "JwtPreviousKey",
    "Settings",
    "SettingsError",
    "load_settings",
]
