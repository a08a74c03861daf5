/* tests/demo/bitgen_robots.h: written by tools/demo.py -- do not edit. As bitgen.export.export_headers writes it. */
#ifndef BITGEN_ROBOTS_H
#define BITGEN_ROBOTS_H
#define BITGEN_N_ROBOTS 16
static const char *const bitgen_robot_ids[16] = {"articulated_arm", "cobot_arm", "mobile_manipulator", "amr_cart", "autonomous_forklift", "delivery_robot", "quadruped", "humanoid", "tracked_ugv", "quadcopter_drone", "fixed_wing_drone", "underwater_rov", "surface_vessel", "cleaning_robot", "agricultural_robot", "surgical_robot"};
static const char *const bitgen_robot_names[16] = {"Industrial articulated arm", "Collaborative arm", "Mobile manipulator", "Autonomous mobile robot cart", "Autonomous forklift", "Sidewalk delivery robot", "Quadruped legged robot", "Humanoid robot", "Tracked unmanned ground vehicle", "Quadcopter drone", "Fixed-wing drone", "Underwater remotely operated vehicle", "Autonomous surface vessel", "Floor cleaning robot", "Agricultural field robot", "Surgical robot"};
#endif
