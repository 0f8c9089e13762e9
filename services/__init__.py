"""Service layer: every use case, every query and every external call of SourcingX lives here."""
