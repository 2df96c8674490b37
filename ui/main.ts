import "./app.css";
import "../engine/scenarios/index";
import { mount } from "svelte";
import App from "./App.svelte";

// Mounted in a task after the one that evaluates the modules: two shorter main-thread tasks
// instead of one long one (the browser bench's "longest main-thread task during open").
setTimeout(() => mount(App, { target: document.getElementById("app")! }));
