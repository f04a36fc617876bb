def run(ledger, binary, rules):
    ledger.skip("security", "not written yet")
