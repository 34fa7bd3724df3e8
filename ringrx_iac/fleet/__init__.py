"""Many RingRx accounts in one repository: inventory, concurrent runs, one report."""
