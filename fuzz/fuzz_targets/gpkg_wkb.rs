#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tuilerie_fuzz::gpkg_wkb(data));
