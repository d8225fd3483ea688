"""Binary (XNOR-popcount) and ternary (add/subtract/skip) matrix units."""
