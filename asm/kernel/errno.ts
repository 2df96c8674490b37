// errno values (include/uapi/asm-generic/errno{-base,}.h; ERESTARTSYS: include/linux/errno.h),
// passed negated as the kernel does.
export const EIO: i32 = 5;
export const EAGAIN: i32 = 11;
export const ENOMEM: i32 = 12;
export const EPIPE: i32 = 32;
export const ENOTSOCK: i32 = 88;
export const ECONNRESET: i32 = 104;
export const ENOTCONN: i32 = 107;
export const ETIMEDOUT: i32 = 110;
export const ECONNREFUSED: i32 = 111;
export const EHOSTUNREACH: i32 = 113;
export const ERESTARTSYS: i32 = 512;
