"""Compliance: who must hold a certificate, who holds it, and who loses it next."""
