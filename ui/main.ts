import "./app.css";
import "../engine/scenarios/index";
import { mount } from "svelte";
import App from "./App.svelte";
import { mainWorker } from "./lib/lab.svelte";

// A scenario's page starts its worker (thread, wasm) at once, in the task that evaluates the
// modules; the app is mounted in the next task: two shorter main-thread tasks instead of one
// long one (the browser bench's "longest main-thread task during open").
if (new URLSearchParams(location.search).has("s")) mainWorker();
setTimeout(() => mount(App, { target: document.getElementById("app")! }));
