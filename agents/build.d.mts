/** Types of agents/build.mjs, for TypeScript callers (tests). */
export declare const EXAMPLES_DIR: string
export declare const OUT_DIR: string
export declare const AGENT_FLAGS: readonly string[]
export declare function listExamples (): Promise<string[]>
export declare function compileAgent (entry: string): Promise<{ binary: Uint8Array, ms: number }>
export declare function buildExample (name: string): Promise<{ out: string, bytes: number, ms: number }>
