"""the synthetic scenario (fictional outlets, networks, accounts, claims) used by `fimiscope demo` and by tests"""
