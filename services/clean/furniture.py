"""The vocabularies of page furniture: one linear pattern (or word set) per family.

Each family is printed by every news site in its own words (ad slots, contact blocks, share
counters, photo credits, comment forms ...); ``boilerplate.line_kind`` combines these with
features that tell furniture from prose. All patterns are RE2 (``shared.linear``): they run on
scraped text of any length. ``\\b`` (ASCII-only in RE2) is written out as ``(?:^|\\W)`` /
``(?:\\W|$)``: these patterns are only asked *whether* they occur, never where.
"""

from __future__ import annotations

import re

from shared.linear import compile_linear

AD = compile_linear(
    r"^\W*(?:advertisement|advertising|advert|ads?|sponsored(?: (?:content|post|links?|stories))?"
    r"|promoted(?: (?:content|stories|links))?|paid (?:content|post|partner(?: content)?)"
    r"|partner content|(?:story|article|text) continues (?:below|after)(?: (?:this|the))? (?:advertisement|ad)"
    r"|continue reading (?:below|the main story)|scroll(?: down)? to continue(?: with content)?)"
    r"(?:\W+(?:advertisement|scroll to continue(?: with content)?))?\W*$",
    re.IGNORECASE,
)
CONTACT = compile_linear(
    r"^\W*(?:to contact|contact|write to|e-?mail|reach|send (?:news )?tips to)\s+(?:the\s+)?"
    r"(?:reporters?|editors?|authors?|writers?|journalists?|newsroom|correspondents?|us)(?:\W|$)",
    re.IGNORECASE,
)
COPYRIGHT = compile_linear(
    r"^\W*(?:©|\(c\)\s*\d{4}|copyright(?:\W|$))|all rights reserved", re.IGNORECASE
)
RELATED_HEADING = compile_linear(
    r"^\W*(?:related(?: (?:coverage|articles?|stories|news|content|links|topics|reading|posts?|videos?))?"
    r"|more (?:on|from|about|in) [\w .'’&-]{1,40}|more (?:stories|news|articles)"
    r"|see also|check also|also read|read also|also see|you (?:may|might) also (?:like|enjoy|be interested in)"
    r"|recommended(?: for you| stories| reading| articles)?|most (?:read|popular|viewed|shared)"
    r"|popular (?:now|stories|posts|articles)|trending(?: now| stories)?|top stories"
    r"|editor'?s'? picks?|what to read next|further reading|in other news|latest (?:news|stories)"
    r"|don'?t miss|explore more|more like this|read next|up next)\W*$",
    re.IGNORECASE,
)
READ_MORE = compile_linear(
    r"^\W*(?:read|see|click|continue reading|learn|find out|view)(?: (?:the|this|our))?"
    r"(?: (?:more|full (?:story|article|coverage)|here|on|article|story))?\W*$",
    re.IGNORECASE,
)
# "Read more: <headline>", "RELATED: <headline>", "Also read - <headline>".
INLINE_TEASER = compile_linear(
    r"^\W*(?:read more|read also|also read|related|see also|more|watch|listen|recommended|"
    r"click here|read the full story)\s*[:|>»-]\s*\S",
    re.IGNORECASE,
)
COMMENT_HEADING = compile_linear(
    r"^\W*(?:(?:leave|post|add|write|submit)(?: a| your)? (?:reply|comment|response)"
    r"|\d+\s+(?:comments?|replies|responses)|comments?(?: \(\d+\))?|responses|reader comments"
    r"|join the (?:conversation|discussion)|(?:show|view|load|read|see) (?:all )?(?:\d+ )?comments"
    r"|(?:sign|log) ?in to (?:comment|reply)|comments are closed|discussion)\W*$",
    re.IGNORECASE,
)
COMMENT_FORM = compile_linear(
    r"your email address will not be published|required fields are marked"
    r"|save my name,? e-?mail,? and website|notify me of (?:follow-up comments|new posts)"
    r"|you must be (?:logged|signed) in to post|this site uses akismet"
    r"|^\W*(?:name|e-?mail|website|comment|your name|your comment)\s*\*?\W*$"
    r"|^\W*(?:post|submit|cancel) (?:comment|reply)\W*$|^\W*cancel reply\W*$",
    re.IGNORECASE,
)
READ_TIME = compile_linear(
    r"^\W*(?:\d+\s*-?\s*min(?:ute)?s?(?:\s+read(?:ing)?)?(?:\s+time)?|(?:estimated\s+)?"
    r"read(?:ing)? time\W*\d+\s*min(?:ute)?s?|\d+\s*min(?:ute)?s?\s+read)(?:\W[\W\w]{0,39})?$",
    re.IGNORECASE,
)
CREDITS = compile_linear(
    r"^\W*(?:with\s+)?(?:additional\s+)?(?:reporting|writing|editing|compiled|translated|"
    r"produced|assistance|research|graphics?|edited|written|fact-checked)\s+(?:by|from)(?:\W|$)"
    r"|(?:^|\W)contributed(?: reporting)? to this (?:report|story|article)\W*$"
    r"|^\W*our standards(?:\W|$)|(?:^|\W)trust principles\W*$"
    r"|^\W*(?:editorial|ethics) (?:standards|policy)\W*$",
    re.IGNORECASE,
)
TAGS = compile_linear(r"^\W*(?:tags|topics|filed under|categories|keywords)\s*:", re.IGNORECASE)
NAV = compile_linear(
    r"^\W*(?:skip to (?:main )?content|skip navigation|menu|home|search|close|back to top|"
    r"print(?: this (?:article|page))?|next article|previous article|top of page)\W*$",
    re.IGNORECASE,
)
# A photo credit closing a caption: "Photograph: Carlos Jasso/Reuters", "REUTERS/Jane Doe",
# "Federico Parra/AFP/Getty Images", "(AP Photo/Jane Doe)", "Photo by Jane Doe".
_NAME_TOKEN = r"[A-Z][^\W\d_]*(?:['’.-][^\W\d_]+)*\.?"  # letters only: "Channel 4" is no credit
_CREDIT_NAMES = rf"(?:{_NAME_TOKEN}\s){{0,3}}{_NAME_TOKEN}"
CREDIT_TAIL = compile_linear(
    r"(?:(?:^|\W)(?i:photo(?:graph)?|picture|image|illustration|video|credit|foto|footage)s?"
    r"(?i:\s+by|\s+courtesy(?:\s+of)?)?\s*[:/]?\s+[A-Z][^.!?]{1,80}"
    rf"|(?:^|[\s(]){_CREDIT_NAMES}(?:/{_CREDIT_NAMES}){{1,3}}"
    # "\b/" is a slash right after a word character
    r"|(?:(?:^|\W)via|\w/)\s*Getty Images|(?:^|\W)Getty Images|(?:^|\W)Shutterstock"
    r"|(?:^|\W)AP Photo(?:[^.\w][^.]{0,39})?)\)?$"
)
CAPTION_HEAD = compile_linear(
    r"^\W*(?:image|photo|picture|video)\s+(?:caption|copyright|source)(?:\W|$)", re.IGNORECASE
)
# Words of share bars and counters ("Share 12", "Tweet this", "1.2k shares").
SHARE_WORDS = frozenset({
    "share", "shares", "shared", "sharing", "tweet", "tweets", "email", "e-mail", "mail", "print",
    "facebook", "twitter", "x", "whatsapp", "linkedin", "pinterest", "reddit", "messenger",
    "telegram", "flipboard", "sms", "copy", "link", "links", "save", "saved", "comment",
    "comments", "like", "likes", "this", "article", "story", "on", "via", "pin", "more", "options",
    "views", "reactions", "the", "to", "and", "or",
})  # fmt: skip

APPEAL = compile_linear(
    r"(?:^|\W)(?:contribut(?:e|ion|ing)|donat(?:e|ion|ions|ing)|support (?:us|our|independent)"
    r"|supported us|subscri(?:be|ption|ber)s?|become a (?:member|supporter|subscriber|patron)"
    r"|chip in|help us|sign up|patreon|paypal|make a gift)(?:\W|$)",
    re.IGNORECASE,
)
MEDIA_WORDS = compile_linear(
    r"(?:^|\W)(?:journalism|journalists?|reporting|independent|readers?|media|newsroom|advertis\w*"
    r"|paywall|newsletter|inbox|free to read|our (?:work|mission|site|website|platform))(?:\W|$)",
    re.IGNORECASE,
)
# The site speaking (we) and the reader addressed (you): boilerplate counts them as whole words.
WE_WORDS = frozenset({"we", "our", "us"})
YOU_WORDS = frozenset({"you", "your"})
PROMO_START = compile_linear(
    r"^\W*(?:sign up|subscribe|follow us|follow (?:\w+ )?on (?:twitter|facebook|instagram)|"
    r"download (?:our|the) app|get (?:our|the latest)|join (?:our|us)|like us on|click here to)"
    r"(?:\W|$)",
    re.IGNORECASE,
)
