"""Order release policy: decide release, approve or hold for a sale order against a versioned policy file."""
