import type { DescribeContext } from "../scenarios/types";
export function lnetPcap(raw: any, ctx?: DescribeContext): Uint8Array { return new Uint8Array(0); }
