export declare function decodeConcurrency(cores?: number): number;
export declare function threadPoolSize(cores?: number): number;
export declare function sizeThreadPool(env?: NodeJS.ProcessEnv): number;
