// The lab's WASM module: the host ABI and every scenario.
export * from "./abi";
import "./scenarios";
