"""Supply-chain register: vendor profiles, foreign-product inventory, domestic substitution plans."""
