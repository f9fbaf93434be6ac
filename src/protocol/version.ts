// Version of the worker <-> server protocol. Workers send it with every check-in; the server
// refuses a worker whose major version differs, with a message naming both.
export const PROTOCOL_VERSION = 1;
export const PRODUCT_VERSION = '0.1.0';
