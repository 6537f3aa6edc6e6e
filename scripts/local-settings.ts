/**
 * The operator token `npm start` and docker compose use when `.env` sets none: a documented value
 * for a machine of one's own, where the ports answer on loopback only. Anything reachable by others
 * sets its own OPERATOR_TOKEN.
 */
export const LOCAL_OPERATOR_TOKEN = 'local-operator-token';
