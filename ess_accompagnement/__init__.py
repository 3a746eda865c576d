"""ESS Accompagnement: follow social-economy projects along the « chaîne de l'accompagnement »."""

__version__ = "0.1.0"
APP_NAME = "ESS Accompagnement"
APP_AUTHOR = "ESS Accompagnement"
