//! Every Redis key flowbot uses, built in one place under the configured prefix.
//! SKELETON: to be written with the Redis backend.
