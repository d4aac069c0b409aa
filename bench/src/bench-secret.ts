export const BENCH_SECRET = "whsec_bench_0123456789";
