"""The sentences only the Telegram connector says (subscriptions, feedback), in French."""

from __future__ import annotations

SUBSCRIPTION_HELP = (
    "/abonner — Recevoir ici les annonces du label (ouverture, rappels, résultats)\n"
    "/desabonner — Ne plus recevoir les annonces"
)
SUBSCRIBED = (
    "C'est noté : vous recevrez ici les annonces du label (ouverture des candidatures, "
    "rappels, résultats). Pour arrêter : /desabonner"
)
ALREADY_SUBSCRIBED = "Vous êtes déjà abonné aux annonces. Pour arrêter : /desabonner"
UNSUBSCRIBED = "C'est fait : vous ne recevrez plus les annonces. Pour vous réabonner : /abonner"
NOT_SUBSCRIBED = "Vous n'étiez pas abonné. Pour recevoir les annonces : /abonner"
ADMINS_ONLY = "Seuls les administrateurs du groupe peuvent l'abonner ou le désabonner des annonces."
FEEDBACK_THANKS = "Merci pour votre retour !"
SUGGESTION_GONE = "Cette suggestion n'est plus disponible. Posez à nouveau votre question !"
SUBSCRIPTION_DESCRIPTIONS = (
    ("abonner", "Recevoir les annonces du label"),
    ("desabonner", "Ne plus recevoir les annonces"),
)
