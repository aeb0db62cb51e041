// Addresses and prefixes are part of the model's vocabulary.
@_exported import NetAddress
