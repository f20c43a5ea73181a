//! Decoding with symphonia (placeholder, filled in by the decoding work).
