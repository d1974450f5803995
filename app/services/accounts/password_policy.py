"""What makes a password acceptable: long enough and hard to guess.

Following NIST SP 800-63B: a minimum length, a generous maximum, no rules
about character classes, and a check that the password is not easy to guess.
The check is zxcvbn's estimate of how many guesses an attacker would need,
knowing the user's email address, the board's name and the portal's own words.
"""

import re
import threading
from difflib import SequenceMatcher

from zxcvbn import zxcvbn

# Long passphrases are welcome; this only stops a megabyte from being hashed.
MAX_PASSWORD_LENGTH = 1024

# zxcvbn's scores run 0-4. 3 ("safely unguessable", at least 10^8 guesses) is far
# out of reach of guessing at the sign-in page (rate-limited, with lockout), and
# what zxcvbn's authors call moderate protection should the argon2 hashes be
# stolen. 2 (10^6 to 10^8) is where "P@ssw0rd1234"-like variations of common
# passwords land. 4 (10^10) would also refuse short phrases of common words,
# and a rule that refuses too much drives people to write passwords down.
MIN_SCORE = 3

# Only this many leading characters are estimated. zxcvbn's time grows with the
# square of the length, and its l33t matcher tries up to 736 substitution tables
# on a string of symbols such as "4@8({[<36|!1": measured on the 2-core machine,
# such a string takes about 1 s of CPU at 32 characters, 4 s at 64 and 6 s at 100
# (a passphrase: 6 ms, 18 ms, 50 ms). In zxcvbn's model more characters hardly ever
# make a password easier to guess, so a strong prefix means a strong password; a
# password whose start is weak is refused, however long the rest.
ESTIMATED_PREFIX = 32

# Words anybody attacking this portal would try first.
PORTAL_WORDS = ("portal", "exam", "centre", "secure", "release")

# zxcvbn keeps the user's words in a module-level dictionary that each call
# replaces: two requests' threads at once could check against each other's.
_estimator_lock = threading.Lock()


def password_problem(
    password: str, *, min_length: int, email: str = "", organisation: str = ""
) -> str | None:
    """Why this password may not be used, in words for the user; None when it may."""
    if len(password) < min_length:
        return f"Your password must have at least {min_length} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Your password can have at most {MAX_PASSWORD_LENGTH} characters."
    if _like_the_address(password, email):
        return (
            "Your password is too like your email address, which anybody trying to get in "
            "knows. Choose one that has nothing to do with it."
        )
    prefix = password[:ESTIMATED_PREFIX]
    with _estimator_lock:
        estimate = zxcvbn(
            prefix, user_inputs=guessable_words(email, organisation), max_length=len(prefix)
        )
    if estimate["score"] >= MIN_SCORE:
        return None
    return _why_weak(estimate, long=len(password) > ESTIMATED_PREFIX)


def guessable_words(email: str, organisation: str) -> list[str]:
    """What an attacker knows of this user: their address and its parts, the board's
    name and its words, and the portal's own words."""
    words = [email, organisation, *PORTAL_WORDS]
    local, _, domain = email.partition("@")
    words += [local, domain, *re.split(r"[._+-]", local), *domain.split(".")]
    words += organisation.split()
    return [word for word in dict.fromkeys(words) if len(word) > 1]


def _like_the_address(password: str, email: str, max_similarity: float = 0.7) -> bool:
    """Whether the password is mostly the address or a part of it, rearranged or
    not (Django's UserAttributeSimilarityValidator): zxcvbn lets "officer.example.com"
    pass for officer@example.com, charging it as three words and a guess of the dots."""
    folded = password.strip().casefold()
    local, _, domain = email.casefold().partition("@")
    for value in {email.casefold(), local, domain} - {""}:
        # The ratio is at most this; past it, the comparison (slow on long text) is moot.
        if 2 * len(value) / (len(folded) + len(value)) < max_similarity:
            continue
        matcher = SequenceMatcher(a=folded, b=value)
        if matcher.quick_ratio() >= max_similarity and matcher.ratio() >= max_similarity:
            return True
    return False


def _why_weak(estimate: dict, *, long: bool) -> str:
    feedback = estimate["feedback"]
    warning = feedback["warning"]
    if not warning and any(m.get("dictionary_name") == "user_inputs" for m in estimate["sequence"]):
        warning = "It is made from your email address, the board's name or the portal's name."
    where = f"Its first {ESTIMATED_PREFIX} characters are" if long else "That password is"
    sentences = [
        f"{where} too easy to guess.",
        warning,
        *feedback["suggestions"],
        "A few unrelated words make a strong password that is easy to remember.",
    ]
    return " ".join(dict.fromkeys(s for s in sentences if s))
