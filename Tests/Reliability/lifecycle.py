def run(ledger, binary, rules):
    ledger.skip("lifecycle", "not written yet")
