// The kernel log lines the scenarios print in their evidence (printk, dmesg order):
// "nfs: server ... not responding, still trying", "... OK",
// "xprt_force_disconnect(): setting XPRT_CLOSE_WAIT" (Simon Kirby's debugging printk),
// TCP state changes of the RPC socket. A bounded ring: the first and the last lines stay.
import { now } from "../kernel/clock";
import { jArr, jEndArr, jObj, jEndObj, jKI, jKName } from "../kernel/json";
import { zeroed } from "../kernel/mem";

const MAX: i32 = 96;
const HEAD: i32 = 32;
const lT = zeroed<i64>(MAX);
const lName = zeroed<i32>(MAX);
const lA = zeroed<i32>(MAX);
const lB = zeroed<i32>(MAX);
let n: i32 = 0;
let dropped: i32 = 0;

export function klog(nameId: i32, a: i32 = 0, b: i32 = 0): void {
  let i = n;
  if (n >= MAX) {
    // keep the first HEAD lines, roll the rest
    for (let k = HEAD; k < MAX - 1; k++) {
      unchecked(lT[k] = lT[k + 1]); unchecked(lName[k] = lName[k + 1]);
      unchecked(lA[k] = lA[k + 1]); unchecked(lB[k] = lB[k + 1]);
    }
    i = MAX - 1;
    dropped++;
  } else n++;
  unchecked(lT[i] = now);
  unchecked(lName[i] = nameId);
  unchecked(lA[i] = a);
  unchecked(lB[i] = b);
}

export function klogJson(): void {
  jObj();
  jKI("dropped", dropped);
  jKI("head", HEAD);
  jKey_lines();
  jEndObj();
}

import { jKey } from "../kernel/json";
function jKey_lines(): void {
  jKey("lines");
  jArr();
  for (let i = 0; i < n; i++) {
    jObj();
    jKI("t", unchecked(lT[i]));
    jKName("msg", unchecked(lName[i]));
    jKI("a", unchecked(lA[i]));
    jKI("b", unchecked(lB[i]));
    jEndObj();
  }
  jEndArr();
}
