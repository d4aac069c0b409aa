/**
 * The webhook signing secret in `.env.example`, which `pnpm start` and the CLI use on a local box.
 * It is public, so anyone could sign events with it: the ingest refuses it when
 * `NODE_ENV=production` (the images set it) and `fanfare-relay doctor` flags it.
 */
export const LOCAL_DEMO_SECRET = "whsec_local_demo_secret_change_me";
