"""End-to-end: the product's incident reproduced with real mail servers on loopback."""
