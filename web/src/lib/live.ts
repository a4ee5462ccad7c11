// A version number per live channel: a screen passes it as useLoad's ``version`` so its data reloads in place
// when another person's write (or a worker) publishes on the channel (cloudoptima_gateway/live_writes.py).

import { useEffect, useState } from "react";
import { subscribe, type Channel } from "./stream";

/** Events arriving within this many milliseconds bump the version once. */
export const LIVE_COALESCE_MS = 500;

/** How many (coalesced) events ``channel`` has delivered since the screen opened. */
export function useLiveVersion(channel: Channel): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const off = subscribe(channel, () => {
      if (timer === null)
        timer = setTimeout(() => {
          timer = null;
          setVersion((v) => v + 1);
        }, LIVE_COALESCE_MS);
    });
    return () => {
      off();
      if (timer !== null) clearTimeout(timer);
    };
  }, [channel]);
  return version;
}
