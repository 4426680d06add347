#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tuilerie_fuzz::mbtiles(data));
