/**
 * The 22 FIPA communicative acts (FIPA SC00037J). The value of each member is its stable
 * wire number in the agent ABI: the index of the same name in the host's `PERFORMATIVES`
 * (protocols/fipa/types.ts). Never reorder, only append.
 */
export enum Performative {
  ACCEPT_PROPOSAL = 0,
  AGREE = 1,
  CANCEL = 2,
  CFP = 3,
  CONFIRM = 4,
  DISCONFIRM = 5,
  FAILURE = 6,
  INFORM = 7,
  INFORM_IF = 8,
  INFORM_REF = 9,
  NOT_UNDERSTOOD = 10,
  PROPAGATE = 11,
  PROPOSE = 12,
  PROXY = 13,
  QUERY_IF = 14,
  QUERY_REF = 15,
  REFUSE = 16,
  REJECT_PROPOSAL = 17,
  REQUEST = 18,
  REQUEST_WHEN = 19,
  REQUEST_WHENEVER = 20,
  SUBSCRIBE = 21
}

/** Number of performatives this SDK knows; codes at or above it are invalid. */
export const PERFORMATIVE_COUNT: i32 = 22

/** Levels of `log`, as the host's `env.log` numbers them. */
export enum LogLevel {
  DEBUG = 0,
  INFO = 1,
  WARN = 2,
  ERROR = 3
}
