"""Every fixed sentence the bot says, in one place so that wording and tone stay consistent."""

from __future__ import annotations

CONTACT_EMAIL = "label@territoire-numerique-libre.org"
SITE_FAQ = "https://territoire-numerique-libre.org/le-label/faq"

GREETING = (
    "Bonjour ! Je réponds aux questions sur le label Territoire Numérique Libre : candidature, "
    "calendrier, niveaux, communication… Posez votre question en une phrase."
)
THANKS = "Avec plaisir ! N’hésitez pas si vous avez une autre question sur le label."
GOODBYE = "Au revoir, et bonne continuation dans votre démarche libre !"
HELP = (
    "Je suis l’assistant du label Territoire Numérique Libre. Posez-moi une question en français, "
    "par exemple : « Qui peut candidater ? », « Jusqu’à quand peut-on déposer un dossier ? », "
    "« Que sont les niveaux Bronze, Argent et Or ? »."
)
EMPTY = "Je n’ai pas compris votre message. Posez-moi votre question sur le label en quelques mots."
FALLBACK = (
    "Je ne connais pas la réponse à cette question et je préfère ne pas vous induire en erreur. "
    f"L’équipe du label vous répondra à l’adresse {CONTACT_EMAIL}. "
    f"Vous trouverez aussi les questions fréquentes sur {SITE_FAQ}"
)
SUGGESTIONS_INTRO = "Je ne suis pas sûr d’avoir compris. Vouliez-vous dire :"
SUGGESTIONS_OUTRO = f"Sinon, écrivez à {CONTACT_EMAIL}."
OUT_OF_SCOPE_OUTRO = f"Pour toute question sur le label, écrivez à {CONTACT_EMAIL}."
UNKNOWN_COMMAND = "Je ne connais pas cette commande. Tapez /aide pour la liste des commandes."
FAQ_USAGE = "Ajoutez votre question après la commande, par exemple : /faq Qui peut candidater ?"
CONTACT = (
    f"Vous pouvez écrire à l’équipe du label à l’adresse {CONTACT_EMAIL}. "
    f"Les questions fréquentes sont sur {SITE_FAQ}"
)
COMMANDS_TITLE = "Commandes :"
ORGANISER_COMMANDS_TITLE = "Commandes des organisateurs :"

# Subscriptions (platforms that can deliver announcements to a conversation).
SUBSCRIBED = (
    "C’est noté : vous recevrez ici les annonces du label (ouverture des candidatures, "
    "rappels, résultats). Pour arrêter : /desabonner"
)
ALREADY_SUBSCRIBED = "Vous êtes déjà abonné aux annonces. Pour arrêter : /desabonner"
UNSUBSCRIBED = "C’est fait : vous ne recevrez plus les annonces. Pour vous réabonner : /abonner"
NOT_SUBSCRIBED = "Vous n’étiez pas abonné. Pour recevoir les annonces : /abonner"
ADMINS_ONLY = "Seuls les administrateurs du groupe peuvent l’abonner ou le désabonner des annonces."
STORE_UNAVAILABLE = (
    "Je n’arrive pas à enregistrer cela pour le moment. Réessayez dans quelques minutes, "
    "s’il vous plaît."
)

# Withdrawing a publication: the outcome per target, as the organiser reads it.
WITHDRAWN = "supprimé"
ALREADY_WITHDRAWN = "déjà supprimé"
TOO_OLD_TO_WITHDRAW = "trop ancien pour être supprimé (48\u00a0h)"
NOTHING_TO_WITHDRAW = "rien à supprimer"
WITHDRAWN_PER_CHAT = "rien à supprimer ici : chaque discussion est retirée à part"
WITHDRAW_REFUSED = "non supprimé, refusé par {platform} : {reason}"

# Files sent with a message (laureate lists).
FILE_UNAVAILABLE = (
    "Impossible de récupérer le fichier « {name} » auprès de Telegram : réessayez de l’envoyer "
    "dans quelques minutes."
)
FILE_TOO_LARGE = (
    "Ce fichier est trop volumineux ({size}) : j'accepte les fichiers jusqu'à {limit}. "
    "Envoyez une liste plus courte ou découpée en plusieurs fichiers."
)

# Suggestions and feedback.
FEEDBACK_THANKS = "Merci pour votre retour !"
PICK_A_NUMBER = "Choisissez un numéro entre 1 et {count}."
SUGGESTION_GONE = "Cette suggestion n’est plus disponible. Posez à nouveau votre question !"
UNEXPECTED_FILE = (
    "Je ne sais pas quoi faire de ce fichier. Posez-moi plutôt votre question en quelques mots."
)
