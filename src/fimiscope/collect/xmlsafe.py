"""XML from the web goes through defusedxml first: entity expansion (billion laughs),
external entities and DTD tricks are refused before any other parser sees the bytes."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from fimiscope.core.errors import InvalidInput, Refused


def parse_xml(body: bytes, what: str = "document") -> Element:
    """Parse ``body`` safely. Raises Refused for entity/DTD attacks, InvalidInput when malformed."""
    try:
        root: Element = SafeET.fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
        return root
    except DefusedXmlException as exc:
        kind = type(exc).__name__
        raise Refused(f"the {what} declares XML entities or external references ({kind}): refused") from None
    except SafeET.ParseError as exc:
        raise InvalidInput(f"the {what} is not well-formed XML: {exc}") from None


def local(tag: str) -> str:
    """'{http://www.sitemaps.org/schemas/sitemap/0.9}loc' -> 'loc'."""
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""
