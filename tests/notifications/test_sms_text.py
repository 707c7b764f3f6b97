"""SMS texts stay within one segment where possible (no database needed)."""
from app.services.channels import sms


def test_the_richest_variant_that_fits_one_gsm_segment_wins():
    rich = "Ticket TKT-202611-00001 escalated. CRITICAL, FM-001 Freshmart Central: Cold Chambers. Due 24 Nov 15:00."
    assert sms.fit([rich + " https://desk.example.com/tickets/" + "a" * 32, rich]) == rich


def test_a_non_gsm_character_means_a_70_character_segment_and_the_text_is_cut_to_it():
    text = sms.fit(["Ticket TKT-202611-00001 escalated. CRITICAL, FM-001 Магазин Центральный. Due 15:00."])
    assert not sms.is_gsm(text) and len(text) == 70 and text.endswith("…")


def test_gsm_extension_characters_count_twice():
    assert sms.segment_length("a{b}") == (6, 160)
    assert sms.fits_one_segment("€" * 80) and not sms.fits_one_segment("€" * 81)


def test_a_long_gsm_text_is_cut_to_160_characters_without_leaving_gsm():
    text = sms.fit(["Ticket TKT-202611-00001 escalated. " + "x" * 300])
    assert sms.is_gsm(text) and len(text) <= 160 and text.endswith("...")
