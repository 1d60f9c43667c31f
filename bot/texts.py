"""Every fixed sentence the bot says, in one place so that wording and tone stay consistent."""

from __future__ import annotations

CONTACT_EMAIL = "label@territoire-numerique-libre.org"
SITE_FAQ = "https://territoire-numerique-libre.org/le-label/faq"

GREETING = (
    "Bonjour ! Je réponds aux questions sur le label Territoire Numérique Libre : candidature, "
    "calendrier, niveaux, communication… Posez votre question en une phrase."
)
THANKS = "Avec plaisir ! N'hésitez pas si vous avez une autre question sur le label."
GOODBYE = "Au revoir, et bonne continuation dans votre démarche libre !"
HELP = (
    "Je suis l'assistant du label Territoire Numérique Libre. Posez-moi une question en français, "
    "par exemple : « Qui peut candidater ? », « Jusqu'à quand peut-on déposer un dossier ? », "
    "« Que sont les niveaux Bronze, Argent et Or ? »."
)
EMPTY = "Je n'ai pas compris votre message. Posez-moi votre question sur le label en quelques mots."
FALLBACK = (
    "Je ne connais pas la réponse à cette question et je préfère ne pas vous induire en erreur. "
    f"L'équipe du label vous répondra à l'adresse {CONTACT_EMAIL}. "
    f"Vous trouverez aussi les questions fréquentes sur {SITE_FAQ}"
)
SUGGESTIONS_INTRO = "Je ne suis pas sûr d'avoir compris. Vouliez-vous dire :"
SUGGESTIONS_OUTRO = f"Sinon, écrivez à {CONTACT_EMAIL}."
OUT_OF_SCOPE_OUTRO = f"Pour toute question sur le label, écrivez à {CONTACT_EMAIL}."
